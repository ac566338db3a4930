"""Downloads and model imports as lane jobs, speaking in immutable messages.

Downloads run on their own lane (a second `Worker`: the network must not wait behind a generation, and
a download touches no model). Imports convert a checkpoint, which loads it, so they belong on the
model lane: `run_import` is registered there by the composition root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject

from desktop.core.downloads import DownloadCancelled, DownloadError, DownloadProgress, download
from desktop.core.messages import JobCancelled, next_job_id
from desktop.worker.lane import JobContext, Worker


@dataclass(frozen=True)
class DownloadJob:
    """Fetch a hub repository (or the files matching `patterns`) into the shared cache."""

    repo_id: str
    cache_dir: str
    revision: str = "main"
    patterns: tuple[str, ...] | None = None
    title: str = ""
    endpoint: str | None = None
    job_id: int = field(default_factory=next_job_id)
    variant: str | None = None  # "fp16": weight files as their fp16 variant where the repository has one


@dataclass(frozen=True)
class DownloadUpdate:
    """Progress of one download job (bytes, speed, time left)."""

    job_id: int
    progress: DownloadProgress


@dataclass(frozen=True)
class DownloadFinished:
    """A verified download: where its snapshot folder is."""

    job_id: int
    repo_id: str
    folder: str
    total_bytes: int


@dataclass(frozen=True)
class ImportModelJob:
    """Import a model file into the models folder (a checkpoint is converted once to a diffusers folder)."""

    path: str
    models_dir: str
    trust_file: str
    trust_pickle: bool = False
    name: str | None = None
    job_id: int = field(default_factory=next_job_id)


@dataclass(frozen=True)
class ImportFinished:
    """What an import found and where the model now lives."""

    job_id: int
    name: str
    kind: str
    family: str
    path: str

    @property
    def summary(self) -> str:
        return f"Imported {self.name} ({self.kind}, {self.family})"


def run_download(context: JobContext) -> None:
    job: DownloadJob = context.job
    try:
        result = download(job.repo_id, job.cache_dir, job.revision, list(job.patterns) if job.patterns else None,
                          endpoint=job.endpoint, cancel=context.cancel, variant=job.variant,
                          on_progress=lambda progress: context.emit(DownloadUpdate(job.job_id, progress)))
    except DownloadCancelled as error:
        raise JobCancelled(str(error)) from error
    except DownloadError:
        raise  # the lane reports its message as Failed
    context.emit(DownloadFinished(job.job_id, result.repo_id, result.folder, result.total_bytes))


def run_import(context: JobContext) -> None:
    from desktop.core.pickle_files import TrustList
    from desktop.engine.model_import import import_model_file  # torch, on the lane thread only

    job: ImportModelJob = context.job
    result = import_model_file(job.path, job.models_dir, trust=TrustList(job.trust_file),
                               trust_pickle=job.trust_pickle, name=job.name)
    context.emit(ImportFinished(job.job_id, result.name, result.kind, result.family, result.path))


def make_download_worker(parent: QObject | None = None) -> Worker:
    """The network lane: one download at a time, each cancellable, each ending Done/Cancelled/Failed."""
    worker = Worker({DownloadJob: run_download}, parent)
    worker._thread.setObjectName("atelier-downloads")
    return worker


def download_job_for(entry, cache_dir: str | Path, endpoint: str | None = None) -> DownloadJob:
    """A DownloadJob for a catalog entry."""
    return DownloadJob(entry.repo_id, str(cache_dir), entry.revision, tuple(entry.patterns), entry.title, endpoint,
                       variant=entry.variant or None)
