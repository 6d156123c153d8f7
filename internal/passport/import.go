package passport

// CSV imports of members (SPEC §6): their statuses and security events.

// Import statuses.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// Outcomes of one row of an import (the result file's outcome column).
const (
	ImportCreated   = "created"
	ImportUnchanged = "unchanged"
	ImportError     = "error"
)

// Security events of imports: an administrator started one; the job finished one
// (details: file, created, unchanged, failed).
const (
	EventImportStarted  = "import.started"
	EventImportFinished = "import.finished"
)
