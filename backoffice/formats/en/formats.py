# The same shape as backoffice.presentation.when: "2026-12-03 23:05 JST" (T: the zone's name).
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
