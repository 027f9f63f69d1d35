"""Orders and products (Keystone order inception): the lifecycle rules and their projection."""
