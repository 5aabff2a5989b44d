"""Settings from the environment, read once, with Slack's conventional names."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from context.db import DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Every environment variable Foresight reads.

    Field names are the variable names (case-insensitive): ``SLACK_BOT_TOKEN`` fills
    ``slack_bot_token``.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the store."
    )
    slack_bot_token: str | None = Field(None, description="Bot token, xoxb-….")
    slack_signing_secret: str | None = Field(
        None, description="Signing secret from the app's Basic Information page."
    )
    slack_app_token: str | None = Field(
        None, description="App-level token (xapp-…); when set, serve uses Socket Mode."
    )
    slack_api_url: str | None = Field(
        None, description="Slack Web API base URL; only to point at a stand-in."
    )
    port: int = Field(3000, description="HTTP port for /slack/events and /healthz.")
    foresight_config: str | None = Field(None, description="Path of the config file.")
    foresight_now: str | None = Field(
        None, description="A fixed 'now' (ISO date or time) for the whole program."
    )
    foresight_data_root: str | None = Field(
        None, description="Replaces the config's data_root (where file sources read)."
    )
