"""The truth: threat kinematics (and, later, interceptors in flight)."""

from iamd.world.reach import RangeClass, class_burnout_speed_mps, max_range_m, vacuum_range_m

__all__ = ["RangeClass", "class_burnout_speed_mps", "max_range_m", "vacuum_range_m"]
