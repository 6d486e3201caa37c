"""Reaching a caller back after the call: texts, callbacks, the unit's follow-up, the
satisfaction call. Nothing here may text or dial a caller who did not say it is safe:
every sender asks `balagh.consent.may_contact` first."""
