"""What people say: call topics with their lines, key points, e-mail subjects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    title: str
    rep_lines: tuple[str, ...]
    customer_lines: tuple[str, ...]
    key_points: tuple[str, ...]


COMMON_REP = (
    "Thanks for making the time today, I know the week is busy.",
    "Before we dive in, has anything changed on your side since we last spoke?",
    "Let me share my screen so we are looking at the same numbers.",
    "I'll send a recap with next steps right after this call.",
    "Who else should be in the room when we go through this in detail?",
    "Does the timeline we discussed still work for your team?",
)
COMMON_CUSTOMER = (
    "Sounds good, go ahead.",
    "Can you repeat that last part? The connection dropped for a second.",
    "I'd like to loop in our finance lead before we commit to anything.",
    "That matches what we are seeing internally.",
    "Let me check with the team and get back to you by Friday.",
)
NEGATIVE_LINES = (
    "Honestly, the price increase is a real problem for us this year.",
    "Adoption has stalled on our side and leadership is asking why we pay for this.",
    "We are evaluating a competitor, and their proposal is noticeably cheaper.",
    "Our budget for next year is frozen until further notice.",
)

TOPICS = (
    Topic(
        "Discovery call",
        ("What does your forecast process look like today?",
         "How many reps are on the team, and how do they prep for calls?",
         "What would success look like six months from now?"),
        ("We mostly live in spreadsheets and the CRM is always out of date.",
         "Our reps spend an hour a day hunting for context before calls.",
         "We need something that works inside Slack, nobody opens another tool."),
        ("Forecasting lives in spreadsheets", "Reps lose an hour a day to prep",
         "Slack-first is a hard requirement", "Champion wants a pilot this quarter"),
    ),
    Topic(
        "Pricing review",
        ("Here is the proposal for the seat count we discussed.",
         "We can offer a multi-year discount if that helps with procurement.",
         "Annual billing brings the per-seat price down noticeably."),
        ("The per-seat price is higher than we budgeted.",
         "Procurement will ask for a three-year option.",
         "Can you break out the add-on pricing separately?"),
        ("Price per seat above budget", "Multi-year discount requested",
         "Procurement review needed", "Add-on pricing to be itemised"),
    ),
    Topic(
        "Renewal check-in",
        ("Your renewal is coming up, so I wanted to review how things are going.",
         "Usage looks healthy in most teams; one region has dropped off.",
         "Are you planning to grow the team next year?"),
        ("The core team loves it, but the EMEA group barely logs in.",
         "We might reduce seats unless adoption improves.",
         "Renewal approval now goes through the CFO."),
        ("Renewal approval moved to the CFO", "EMEA adoption is low",
         "Possible seat reduction", "Interest in an adoption workshop"),
    ),
    Topic(
        "Technical deep dive",
        ("The integration uses read-only scopes on the CRM.",
         "Data stays in your region, and we can walk your security team through it.",
         "The warehouse connector syncs every fifteen minutes."),
        ("Our security team needs the SOC 2 report before the pilot.",
         "How do you handle SSO and user provisioning?",
         "We have a custom object for partner deals, will that sync?"),
        ("SOC 2 report requested", "SSO and SCIM are required",
         "Custom partner-deal object must sync", "Security review scheduled"),
    ),
    Topic(
        "Quarterly business review",
        ("Let's look at what the team achieved this quarter.",
         "Win rates on deals with a pre-call brief are up compared to last quarter.",
         "Here are three things we recommend for next quarter."),
        ("The alerts on stalled deals have been the most useful part.",
         "Managers want a weekly digest instead of individual alerts.",
         "We want to roll it out to the customer success team."),
        ("Stalled-deal alerts valued most", "Managers prefer a weekly digest",
         "Expansion to customer success", "Win rate up on briefed deals"),
    ),
)  # fmt: skip

EMAIL_SUBJECTS = {
    "outbound": ("Following up on our call", "Proposal attached", "Next steps",
                 "Quick question about your timeline", "Agenda for Thursday"),
    "inbound": ("Re: Following up on our call", "Re: Proposal attached",
                "Questions from our security team", "Re: Next steps",
                "Budget update"),
}  # fmt: skip
NOTES = (
    "Champion confirmed budget owner is the CFO.",
    "Asked for a reference customer in the same industry.",
    "Legal review started; expect redlines next week.",
    "Left a voicemail, no answer.",
    "Competitor mentioned during the call.",
)
