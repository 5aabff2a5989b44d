"""Foresight's Slack side: the Bolt app, its listeners, the CLI and the scheduler."""
