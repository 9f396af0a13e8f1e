"""Credit policy files (TOML): parsing, validation and the decisions they drive."""
