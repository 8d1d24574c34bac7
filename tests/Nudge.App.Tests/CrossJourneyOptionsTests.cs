using System.ComponentModel.DataAnnotations;
using Nudge.App.Hosting;

namespace Nudge.App.Tests;

/// <summary>The frequency-cap settings a deployment may give, and the reasons it is refused at start.</summary>
public sealed class CrossJourneyOptionsTests
{
    [Theory]
    [InlineData("sms", 1, null, null)]
    [InlineData("email", 40, 150, null)]
    [InlineData("email", 41, null, "at most 40 a day and 150 a week")]
    [InlineData("kakao", null, 151, "at most 40 a day and 150 a week")]
    [InlineData("sms", -1, null, "not negative")]
    [InlineData("sms", null, null, "needs PerDay and/or PerWeek")]
    [InlineData("fax", 1, null, "is not a channel")]
    public void Validate_Caps(string channel, int? perDay, int? perWeek, string? problem)
    {
        var options = new CrossJourneyOptions { Caps = { [channel] = new CrossJourneyOptions.CapOptions { PerDay = perDay, PerWeek = perWeek } } };

        var problems = options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage).ToList();

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.Contains(problems, p => p!.Contains(problem, StringComparison.Ordinal));
        }
    }
}
