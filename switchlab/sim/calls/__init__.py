"""Call processing: originate, sofia routing, loopback, the inbound leg, answer, ring,
bridge linking, hangup, destroy and the CDR variables. Imports the model layer
only; calls up into the dialplan applications through :data:`.hooks.HOOKS`."""
