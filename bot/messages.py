"""Every sentence Foresight shows a person, in one place.

Values from data are escaped by the caller (``bot.blocks.escape``) before they reach
these functions' mrkdwn.
"""

from __future__ import annotations

USAGE = "Type `/account` and a company name or domain, for example `/account acme`."


def user_usage() -> str:
    return USAGE


def user_no_match(query: str, nearest: list[str]) -> str:
    text = f"I couldn't find an account matching *{query}*."
    if nearest:
        text += " Nearest names: " + ", ".join(f"*{n}*" for n in nearest) + "."
    return text + " Try part of the name or the company's domain (`acme.com`)."


def user_pick_one(query: str) -> str:
    return f"Several accounts match *{query}*. Which one do you mean?"


def user_did_you_mean(name: str) -> str:
    return f"Did you mean *{name}*?"


def user_more_matches(shown: int, total: object) -> str:
    return f"_Showing {shown} of {total} matches: type more of the name to narrow it._"


def user_not_allowed() -> str:
    return (
        "Sorry, account details are only shared with the sales team. If you should "
        "have access, ask your RevOps admin to add your Slack e-mail to Foresight's "
        "team directory."
    )


def user_team_not_loaded() -> str:
    return (
        "Foresight doesn't know the sales team yet: no synced source lists it (reps "
        "come from a CRM's owners or users, or a people file). Ask your RevOps admin "
        "to add one and run `foresight sync`."
    )


def user_guest_refused() -> str:
    return "Sorry, account details aren't available to guests of this workspace."


def user_something_failed() -> str:
    return (
        ":warning: Something went wrong while building that answer, and it was logged. "
        "Try again in a minute; if it keeps failing, tell your Foresight admin."
    )


def user_card_rejected() -> str:
    return (
        ":warning: Slack refused the full card, so here is a short version. The "
        "problem was logged for your Foresight admin."
    )


def user_account_gone() -> str:
    return "That account is no longer in Foresight's store. Run `/account` again."


def user_shared_by(user_id: str) -> str:
    return f"Shared by <@{user_id}>"


def user_unverified() -> str:
    return (
        ":warning: I couldn't check who you are with Slack just now, so I can't show "
        "account details. Try again in a minute; if it keeps happening, ask your "
        "Foresight admin to check the app's `users:read` and `users:read.email` scopes."
    )


def user_share_audience() -> str:
    return (
        "The card stays private: this channel has people who can't see account "
        "details (guests, or people outside the sales team)."
    )


def user_share_external() -> str:
    return "The card stays private: this channel is shared with another organisation."


def user_share_unknown_channel() -> str:
    return (
        "The card stays private: I can't see who is in this channel. Invite "
        "@Foresight to it, or share the card somewhere I can check."
    )


def user_share_too_large(limit: int) -> str:
    return (
        f"The card stays private: this channel has more than {limit} members, too "
        "many to check that everyone may see account details."
    )


def user_email_hidden() -> str:
    return (
        "Sorry, I can't see your e-mail address in Slack, so I can't tell whether you "
        "are on the sales team. Ask your Foresight admin to check that the app has the "
        "`users:read.email` scope."
    )
