"""Identity: normalization, resolution, merging profiles and their attributes."""
