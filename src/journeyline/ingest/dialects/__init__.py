"""Pure adapters: one wire dialect's payload in, CanonicalEvents (or a field-naming error) out."""
