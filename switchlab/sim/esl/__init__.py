"""The event-socket server side of an emulated host: connections, their commands and
subscriptions, the api commands (``mod_commands``) and ``show``."""
