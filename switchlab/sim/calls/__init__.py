"""Call processing: originate, sofia routing, loopback, the inbound leg, answer, ring,
bridge linking, hangup, destroy and the CDR variables. Imports the model and DUT
layers only; calls up into the dialplan applications through :data:`.hooks.HOOKS`.

The event order of each leg follows the transcripts (see INDEX2.md, "Channel
event order"); the variables each step sets come from
:mod:`~switchlab.sim.model.milestones`. Steps that FreeSWITCH performs one timer
tick apart are scheduled one tick apart here.
"""
