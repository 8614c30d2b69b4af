"""Lesson 15: a task tracker in layers: a service layer, repositories behind one interface, a unit of work."""
