"""Atelier's benchmarks: measured on demand (`python -m benchmarks`), never pass/fail tests.

Each section module (startup, stall, generation, memory, chat, unet, gpu) has KEYS and
`run(Context) -> {key: Figure}`; sections that need a fresh process run their `--child` there.
"""
