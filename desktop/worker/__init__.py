"""Background worker: owns the engine on one thread and speaks in immutable messages. QtCore only."""
