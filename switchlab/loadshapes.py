"""Load shapes (public path): they live in :mod:`switchlab.originator.loadshapes`.

>>> Ramp(1, 101, over=10).rate(5)
51.0
"""
from .originator.loadshapes import (Constant, FromCallable, LaunchSchedule, LoadShape, Ramp, Steps,
                                     as_shape)

__all__ = ["Constant", "FromCallable", "LaunchSchedule", "LoadShape", "Ramp", "Steps", "as_shape"]
