"""Monthly partitions, added by the landing sensor as crime data for a month first appears."""

import dagster as dg

months = dg.DynamicPartitionsDefinition(name="months")
