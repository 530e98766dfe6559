"""Recording I/O: run directories of Parquet tables, written crash-safely as the run goes."""

from iamd.record.reader import Recording
from iamd.record.schema import FORMAT_VERSION, TABLES
from iamd.record.writer import RecordingWriter, TableWriter

__all__ = ["FORMAT_VERSION", "TABLES", "Recording", "RecordingWriter", "TableWriter"]
