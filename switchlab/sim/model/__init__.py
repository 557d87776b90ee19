"""The model layer of the emulator: channels, clock, causes, event building, SIP/SDP
facts and FreeSWITCH's header data. Imports nothing of the layers above."""
