"""The epermit application: the `epermit` command, the end-to-end demo and the reference holder wallet."""
