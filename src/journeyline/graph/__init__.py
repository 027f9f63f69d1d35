"""The intelligence graph (Waypath): customers, touchpoints, campaigns, channels, stages."""
