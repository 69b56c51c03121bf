"""One module per manifest check; the registry (`..registry`) lists them explicitly."""
