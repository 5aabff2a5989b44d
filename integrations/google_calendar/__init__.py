"""Google Calendar as a live source (``kind: google_calendar``): reps' meetings and
their attendees, incrementally through Google's sync tokens."""
