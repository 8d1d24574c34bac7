using System.Text.RegularExpressions;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>One problem with a definition: where (a JSON-path-like location) and what.</summary>
public sealed record ValidationIssue(string Path, string Message);

/// <summary>Checks a journey definition before it can be published, with errors a marketer can act on.</summary>
public static partial class JourneyValidator
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(730);

    /// <summary>Steps one journey may have: every instance replays them, and the simulator runs them per customer per day.</summary>
    public const int MaxSteps = 100;

    /// <summary>Goals (<c>exitOn</c>) one journey may have: each is checked against every event of every instance.</summary>
    public const int MaxExitRules = 20;

    /// <summary>How deeply conditions (journeys' filters and branches, segments) may nest <c>all</c> / <c>any</c> / <c>not</c>.</summary>
    public const int MaxConditionDepth = 16;

    public static (IReadOnlyList<ValidationIssue> Errors, IReadOnlyList<ValidationIssue> Warnings) Validate(JourneyDefinition definition)
    {
        var errors = new List<ValidationIssue>();
        var warnings = new List<ValidationIssue>();
        void Error(string path, string message) => errors.Add(new ValidationIssue(path, message));

        if (!IdPattern().IsMatch(definition.Id ?? ""))
        {
            Error("id", "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit");
        }

        if (definition.Version < 1)
        {
            Error("version", "must be 1 or more");
        }

        ValidateEntry(definition, Error);
        ValidateReentry(definition, Error);
        if (definition.ExitOn.Count > MaxExitRules)
        {
            Error("exitOn", $"must be at most {MaxExitRules} goals");
        }

        for (var i = 0; i < definition.ExitOn.Count && i < MaxExitRules; i++)
        {
            var rule = definition.ExitOn[i];
            if (string.IsNullOrWhiteSpace(rule.Event))
            {
                Error($"exitOn[{i}].event", "is required");
            }

            if (rule.MatchBusinessKey && definition.Entry.BusinessKey is null)
            {
                Error($"exitOn[{i}].matchBusinessKey", "needs entry.businessKey");
            }

            ValidateCondition(rule.Filter, $"exitOn[{i}].filter", Error);
        }

        if (definition.ConversionWindow <= TimeSpan.Zero || definition.ConversionWindow > MaxWait)
        {
            Error("conversionWindow", "must be more than zero and at most 730 days");
        }

        if (definition.Attribution is not { } attribution)
        {
            Error("attribution", "must be an object with afterClick and afterDelivery");
        }
        else
        {
            foreach (var (name, window) in new[] { ("afterClick", attribution.AfterClick), ("afterDelivery", attribution.AfterDelivery) })
            {
                if (window <= TimeSpan.Zero || window > MaxWait)
                {
                    Error($"attribution.{name}", "must be more than zero and at most 730 days");
                }
            }
        }

        ValidateSteps(definition, Error, warnings);
        return (errors, warnings);
    }

    private static void ValidateEntry(JourneyDefinition definition, Action<string, string> error)
    {
        var entry = definition.Entry;
        if (entry is null)
        {
            error("entry", "is required");
            return;
        }

        var kinds = new[] { entry.Event, entry.Segment, entry.Schedule }.Count(k => !string.IsNullOrWhiteSpace(k));
        if (kinds != 1)
        {
            error("entry", "needs exactly one of event, segment or schedule");
        }

        if (entry.Segment is { } segment && !IdPattern().IsMatch(segment))
        {
            error("entry.segment", "must be a segment id (lowercase letters, digits, '-')");
        }

        if (entry.Schedule is { } schedule && schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6)
        {
            error("entry.schedule", "must be an NCRONTAB expression with six fields (seconds first), e.g. '0 0 10 * * *'");
        }

        if (entry.Filter is not null && entry.Segment is not null)
        {
            error("entry.filter", "applies to event and schedule entries; a segment is its own filter");
        }

        if (entry.BusinessKey is not null && (entry.Event is null || !KeyPattern().IsMatch(entry.BusinessKey)))
        {
            error("entry.businessKey", "must name an event property (letters, digits, '_', '.') of an event entry");
        }

        ValidateCondition(entry.Filter, "entry.filter", error);
    }

    private static void ValidateReentry(JourneyDefinition definition, Action<string, string> error)
    {
        var reentry = definition.Reentry;
        switch (reentry.Policy)
        {
            case ReentryPolicy.OnceEver or ReentryPolicy.AfterExit:
                break;
            case ReentryPolicy.AfterCooldown:
                if (reentry.Cooldown is not { } cooldown || cooldown <= TimeSpan.Zero)
                {
                    error("reentry.cooldown", "is required and positive with policy 'cooldown'");
                }

                break;
            case ReentryPolicy.PerBusinessKey:
                if (definition.Entry?.BusinessKey is null)
                {
                    error("reentry.policy", "'perBusinessKey' needs entry.businessKey");
                }

                break;
            default:
                error("reentry.policy", "must be one of once, afterExit, cooldown, perBusinessKey");
                break;
        }
    }

    private static void ValidateSteps(JourneyDefinition definition, Action<string, string> error, List<ValidationIssue> warnings)
    {
        if (definition.Steps is null || definition.Steps.Count == 0)
        {
            error("steps", "needs at least one step");
            return;
        }

        if (definition.Steps.Count > MaxSteps)
        {
            error("steps", $"must be at most {MaxSteps} steps");
            return;
        }

        var ids = new HashSet<string>();
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            var step = definition.Steps[i];
            var path = $"steps[{i}]";
            if (!KeyPattern().IsMatch(step.Id ?? ""))
            {
                error($"{path}.id", "must be letters, digits, '_', '-' or '.'");
            }
            else if (!ids.Add(step.Id!))
            {
                error($"{path}.id", $"'{step.Id}' is used by another step");
            }
        }

        for (var i = 0; i < definition.Steps.Count; i++)
        {
            var step = definition.Steps[i];
            var path = $"steps[{i}]";
            foreach (var (field, target) in Targets(step))
            {
                if (target is not null && !ids.Contains(target))
                {
                    error($"{path}.{field}", $"refers to unknown step '{target}'");
                }
            }

            switch (step)
            {
                case SendStep send:
                    if (!ChannelNames.IsKnown(send.Channel ?? ""))
                    {
                        error($"{path}.channel", $"must be one of {string.Join(", ", ChannelNames.All)}");
                    }

                    if (string.IsNullOrWhiteSpace(send.Template))
                    {
                        error($"{path}.template", "is required");
                    }

                    if (send.OnCap == CapPolicy.Switch && (send.SwitchTo is null || !ChannelNames.IsKnown(send.SwitchTo) || send.SwitchTo == send.Channel))
                    {
                        error($"{path}.switchTo", "must name another channel when onCap is 'switch'");
                    }

                    if (send.OnCap == CapPolicy.Defer && (send.DeferFor <= TimeSpan.Zero || send.DeferFor > MaxWait))
                    {
                        error($"{path}.deferFor", "must be more than zero and at most 730 days");
                    }

                    break;
                case WaitStep wait when wait.Duration <= TimeSpan.Zero || wait.Duration > MaxWait:
                    error($"{path}.duration", "must be more than zero and at most 730 days");
                    break;
                case WaitUntilTimeStep until:
                    if (!LocalTimes.TryParseTime(until.LocalTime, out _))
                    {
                        error($"{path}.localTime", "must be HH:mm");
                    }

                    if (until.Weekdays.Any(d => !LocalTimes.Weekdays.ContainsKey(d)))
                    {
                        error($"{path}.weekdays", "must be mon, tue, wed, thu, fri, sat or sun");
                    }

                    break;
                case WaitUntilDateStep untilDate when string.IsNullOrWhiteSpace(untilDate.Fact):
                    error($"{path}.fact", "is required");
                    break;
                case WaitForEventStep waitFor:
                    if (string.IsNullOrWhiteSpace(waitFor.Event))
                    {
                        error($"{path}.event", "is required");
                    }

                    if (waitFor.Timeout <= TimeSpan.Zero || waitFor.Timeout > MaxWait)
                    {
                        error($"{path}.timeout", "must be more than zero and at most 730 days");
                    }

                    if (waitFor.MatchBusinessKey && definition.Entry?.BusinessKey is null)
                    {
                        error($"{path}.matchBusinessKey", "needs entry.businessKey");
                    }

                    ValidateCondition(waitFor.Filter, $"{path}.filter", error);
                    break;
                case ConditionStep condition:
                    ValidateCondition(condition.Condition, $"{path}.condition", error);
                    break;
                case RandomSplitStep split:
                    if (split.Branches.Count < 2)
                    {
                        error($"{path}.branches", "needs at least two branches");
                    }

                    if (split.Branches.Any(b => b.Weight <= 0))
                    {
                        error($"{path}.branches", "weights must be positive");
                    }

                    if (split.Branches.Select(b => b.Name).Distinct().Count() != split.Branches.Count)
                    {
                        error($"{path}.branches", "names must be unique");
                    }

                    break;
                case HoldoutStep holdout when holdout.Percent is <= 0 or >= 100:
                    error($"{path}.percent", "must be between 1 and 99");
                    break;
            }
        }

        if (ids.Count == definition.Steps.Count)
        {
            CheckGraph(definition, error, warnings);
        }
    }

    /// <summary>Every cycle must pass a waiting step, else the interpreter would spin; unreachable steps are a warning.</summary>
    private static void CheckGraph(JourneyDefinition definition, Action<string, string> error, List<ValidationIssue> warnings)
    {
        var successors = definition.Steps.ToDictionary(s => s.Id, s => Successors(definition, s).ToList());
        var reachable = new HashSet<string>();
        var stack = new Stack<string>([definition.Steps[0].Id]);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (reachable.Add(id))
            {
                foreach (var next in successors[id].Where(successors.ContainsKey))
                {
                    stack.Push(next);
                }
            }
        }

        foreach (var step in definition.Steps.Where(s => !reachable.Contains(s.Id)))
        {
            warnings.Add(new ValidationIssue($"steps[{definition.IndexOf(step.Id)}]", $"step '{step.Id}' can never be reached"));
        }

        // Depth-first search for a cycle through non-waiting steps only.
        var state = new Dictionary<string, int>();
        bool HasInstantCycle(string id)
        {
            if (IsWaiting(definition.Steps[definition.IndexOf(id)]))
            {
                return false;
            }

            state[id] = 1;
            foreach (var next in successors[id].Where(successors.ContainsKey))
            {
                if (state.GetValueOrDefault(next) == 1 || (state.GetValueOrDefault(next) == 0 && HasInstantCycle(next)))
                {
                    return true;
                }
            }

            state[id] = 2;
            return false;
        }

        foreach (var step in definition.Steps)
        {
            if (state.GetValueOrDefault(step.Id) == 0 && HasInstantCycle(step.Id))
            {
                error("steps", $"a loop through '{step.Id}' never waits; add a wait step to it");
                return;
            }
        }
    }

    private static bool IsWaiting(JourneyStep step) => step is WaitStep or WaitUntilTimeStep or WaitUntilDateStep or WaitForEventStep;

    private static IEnumerable<string> Successors(JourneyDefinition definition, JourneyStep step)
    {
        var explicitTargets = Targets(step).Select(t => t.Target).OfType<string>().ToList();
        var usesDefaultNext = step is SendStep or WaitStep or WaitUntilTimeStep or WaitUntilDateStep or HoldoutStep && step.Next is null;
        if (usesDefaultNext)
        {
            var index = definition.IndexOf(step.Id);
            if (index + 1 < definition.Steps.Count)
            {
                explicitTargets.Add(definition.Steps[index + 1].Id);
            }
        }

        return explicitTargets;
    }

    private static IEnumerable<(string Field, string? Target)> Targets(JourneyStep step)
    {
        yield return ("next", step.Next);
        switch (step)
        {
            case WaitForEventStep w:
                yield return ("onEvent", w.OnEvent);
                yield return ("onTimeout", w.OnTimeout);
                break;
            case ConditionStep c:
                yield return ("then", c.Then);
                yield return ("else", c.Else);
                break;
            case WaitUntilDateStep d:
                yield return ("onMissing", d.OnMissing);
                break;
            case RandomSplitStep r:
                for (var i = 0; i < r.Branches.Count; i++)
                {
                    yield return ($"branches[{i}].next", r.Branches[i].Next);
                }

                break;
        }
    }

    public static IReadOnlyList<ValidationIssue> ValidateSegment(Segment segment)
    {
        var errors = new List<ValidationIssue>();
        if (!IdPattern().IsMatch(segment.Id ?? ""))
        {
            errors.Add(new ValidationIssue("id", "must be 1-63 lowercase letters, digits or '-', starting with a letter or digit"));
        }

        if (segment.Condition is null)
        {
            errors.Add(new ValidationIssue("condition", "is required"));
        }

        ValidateCondition(segment.Condition, "condition", (path, message) => errors.Add(new ValidationIssue(path, message)));
        return errors;
    }

    private static void ValidateCondition(Condition? condition, string path, Action<string, string> error, int depth = 0)
    {
        if (condition is null)
        {
            return;
        }

        if (depth > MaxConditionDepth)
        {
            error(path, $"is nested too deeply ({MaxConditionDepth} levels at most)");
            return;
        }

        var combinators = (condition.All is null ? 0 : 1) + (condition.Any is null ? 0 : 1) + (condition.Not is null ? 0 : 1);
        var leaf = condition.Fact is not null || condition.Op is not null;
        if (combinators + (leaf ? 1 : 0) != 1)
        {
            error(path, "must be exactly one of: a fact test (fact, op, value), all, any or not");
            return;
        }

        if (leaf)
        {
            if (string.IsNullOrWhiteSpace(condition.Fact))
            {
                error($"{path}.fact", "is required");
            }

            if (condition.Op is null || !Condition.Operators.Contains(condition.Op))
            {
                error($"{path}.op", $"must be one of {string.Join(", ", Condition.Operators)}");
            }
            else if (condition.Op == "in" && (condition.Values is null || condition.Values.Count == 0))
            {
                error($"{path}.values", "is required with 'in'");
            }

            if (RelativeTime.IsRelative(condition.Value) && !RelativeTime.TryParse(condition.Value, out _))
            {
                error($"{path}.value", "a relative time is 'now', or 'now', a sign and an ISO 8601 duration such as now-P14D or now+PT2H");
            }

            return;
        }

        var children = condition.All ?? condition.Any;
        if (children is not null && children.Count == 0)
        {
            error(path, "all/any need at least one condition");
        }

        foreach (var (child, i) in (children ?? []).Select((c, i) => (c, i)))
        {
            ValidateCondition(child, $"{path}.{(condition.All is not null ? "all" : "any")}[{i}]", error, depth + 1);
        }

        ValidateCondition(condition.Not, $"{path}.not", error, depth + 1);
    }

    /// <summary>Whether a text can be a journey's id at all (a lookup by anything else finds nothing).</summary>
    public static bool IsJourneyId(string id) => IdPattern().IsMatch(id);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex KeyPattern();
}
