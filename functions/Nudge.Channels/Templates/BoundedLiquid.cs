using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using Fluid;
using Fluid.Values;

namespace Nudge.Channels.Templates;

/// <summary>
/// Liquid rendering with bounds, for preview and send alike: at most <see cref="MaxSteps"/> statements, output and
/// any string a filter builds at most <see cref="MaxChars"/> characters, and at most <see cref="MaxTime"/> of work.
/// A template past a bound is refused (preview: 400) or its send fails with the reason; it never holds a worker.
/// </summary>
public static partial class BoundedLiquid
{
    /// <summary>Statements one rendering may run (a loop's body counts each time).</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Characters of output, and of any one string a filter builds (an LMS is at most 2,000 bytes; an email body a few dozen KiB).</summary>
    public const int MaxChars = 64 * 1024;

    /// <summary>Wall time one rendering may take, checked as it writes and as filters run.</summary>
    public static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(1);

    /// <summary>Items of any one array a filter builds (<c>concat</c> can double an array each step).</summary>
    public const int MaxItems = 10_000;

    /// <summary>
    /// A filter's input length times its longest string argument: <c>replace</c> can multiply one by the other before
    /// any result exists to measure, so the product is checked first.
    /// </summary>
    public const long MaxFilterWork = 16L * 1024 * 1024;

    public static readonly FluidParser Parser = new();

    /// <summary>
    /// Parses a template, or says why it is refused: Liquid that does not parse, or a <c>capture</c> tag (its output
    /// goes to a buffer of its own that no bound reaches, and no Nudge template needs it).
    /// </summary>
    public static bool TryParse(string source, out IFluidTemplate? template, out string? error)
    {
        template = null;
        if (CaptureTag().IsMatch(source))
        {
            error = "the 'capture' tag is not supported";
            return false;
        }

        // Fluid builds a range's every item before a loop's first step: (1..100000000) would allocate gigabytes.
        foreach (System.Text.RegularExpressions.Match tag in LiquidTag().Matches(source))
        {
            foreach (System.Text.RegularExpressions.Match range in RangeLiteral().Matches(tag.Value))
            {
                if (!long.TryParse(range.Groups[1].Value, out var from) || !long.TryParse(range.Groups[2].Value, out var to) || Math.Abs(to - from) >= MaxItems)
                {
                    error = $"a range must have whole-number bounds at most {MaxItems} apart";
                    return false;
                }
            }
        }

        if (!Parser.TryParse(source, out var parsed, out error))
        {
            return false;
        }

        template = parsed;
        return true;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[{%].*?[}%]\}", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex LiquidTag();

    [System.Text.RegularExpressions.GeneratedRegex(@"\(\s*([^()]*?)\s*\.\.\s*([^()]*?)\s*\)")]
    private static partial System.Text.RegularExpressions.Regex RangeLiteral();

    [System.Text.RegularExpressions.GeneratedRegex(@"\{%-?\s*(capture|endcapture)\b")]
    private static partial System.Text.RegularExpressions.Regex CaptureTag();

    private static readonly TemplateOptions Options = Bounded(new TemplateOptions { MaxSteps = MaxSteps, MaxRecursion = 16 });

    /// <summary>The rendered text, or null and why the template exceeds the bounds.</summary>
    public static (string? Text, string? Error) TryRender(IFluidTemplate template, IReadOnlyDictionary<string, object?> variables, TextEncoder encoder)
    {
        var context = new TemplateContext(Options);
        foreach (var (name, value) in variables)
        {
            context.SetValue(name, value);
        }

        var started = Stopwatch.GetTimestamp();
        context.AmbientValues[StartedKey] = started;
        using var writer = new BoundedWriter(started);
        try
        {
            // Nudge registers no asynchronous filter or value, so this completes synchronously.
            var rendering = template.RenderAsync(writer, encoder, context);
            if (!rendering.IsCompletedSuccessfully)
            {
                rendering.AsTask().GetAwaiter().GetResult();
            }

            return (writer.ToString(), null);
        }
        catch (TemplateBoundsException e)
        {
            return (null, e.Message);
        }
        catch (InvalidOperationException)
        {
            // Fluid's own step limit.
            return (null, $"the template runs more than {MaxSteps} statements");
        }
    }

    private const string StartedKey = "nudge.render.started";

    /// <summary>Every filter checks the clock and the size of the string it returns (append, replace, join… can double a string each step).</summary>
    private static TemplateOptions Bounded(TemplateOptions options)
    {
        foreach (var (name, filter) in options.Filters.ToList())
        {
            options.Filters.AddFilter(name, async (input, arguments, context) =>
            {
                if (context.AmbientValues.TryGetValue(StartedKey, out var started) && started is long at)
                {
                    CheckTime(at);
                }

                long longestArgument = 1;
                for (var i = 0; i < arguments.Count; i++)
                {
                    longestArgument = Math.Max(longestArgument, arguments.At(i) is StringValue argument ? argument.ToStringValue().Length + 1 : 1);
                }

                if (input is StringValue text && (text.ToStringValue().Length + 1L) * longestArgument > MaxFilterWork)
                {
                    throw new TemplateBoundsException($"the filter '{name}' would build a value too large");
                }

                var result = await filter(input, arguments, context);
                return result switch
                {
                    StringValue when result.ToStringValue().Length > MaxChars => throw new TemplateBoundsException($"a value exceeds {MaxChars} characters"),
                    ArrayValue array when array.Values.Count > MaxItems => throw new TemplateBoundsException($"an array exceeds {MaxItems} items"),
                    _ => result,
                };
            });
        }

        return options;
    }

    private static void CheckTime(long started)
    {
        if (Stopwatch.GetElapsedTime(started) > MaxTime)
        {
            throw new TemplateBoundsException($"rendering takes longer than {MaxTime.TotalSeconds:0.#} s");
        }
    }

    private sealed class TemplateBoundsException(string message) : Exception(message);

    /// <summary>A string writer that refuses output past <see cref="MaxChars"/> and work past <see cref="MaxTime"/>.</summary>
    private sealed class BoundedWriter(long started) : StringWriter(new StringBuilder(), System.Globalization.CultureInfo.InvariantCulture)
    {
        public override void Write(char value)
        {
            Check(1);
            base.Write(value);
        }

        public override void Write(string? value)
        {
            Check(value?.Length ?? 0);
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            Check(count);
            base.Write(buffer, index, count);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            Check(buffer.Length);
            base.Write(buffer);
        }

        private void Check(int adding)
        {
            if (GetStringBuilder().Length + adding > MaxChars)
            {
                throw new TemplateBoundsException($"the output exceeds {MaxChars} characters");
            }

            CheckTime(started);
        }
    }
}
