"""The staff second factor: TOTP enrolment and checks, recovery codes, step-up, resets.

Staff sign in with their gateway password (``security.authentication``), then confirm a code
from their authenticator app; ``SecondFactorMiddleware`` keeps everyone else to enrolment and
verification. Dangerous operations ask for a code again (``step_up``) when the last one is old.
"""
