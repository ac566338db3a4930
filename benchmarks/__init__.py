"""Atelier's benchmarks: measured on demand (`python -m benchmarks`), never pass/fail tests.

Each section module (unet, decode, startup, stall, generation, memory, chat, gpu) has KEYS and
`run(Context) -> {key: Figure}`; sections that need a fresh process run their `--child` there.
"""
