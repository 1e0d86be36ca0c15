// Package spool is refundd's folder protocol: how it finds the files that
// are dropped into its folders (the ERP's refund batches in export/, the
// bank's replies in inbox/), takes each exactly once and only when it is
// complete, and accounts for every one of them.
//
// # Dropping files safely
//
// A writer does one of these:
//
//  1. Write the file under a temporary name in the same folder, then
//     rename it to its final name: "refunds.csv.tmp" → "refunds.csv", or a
//     hidden ".refunds.csv". This is the best way; the rename is atomic.
//  2. Write the file under its final name, close it, and then create an
//     empty done marker beside it: "refunds.csv.done". The file is taken at
//     the next scan, however recently it was written.
//  3. Write the file under its final name and nothing else. It is taken
//     once its size and times have not changed for watch.stable_for
//     (2 s by default), or sooner when the file events show it complete
//     (below). A writer that pauses longer than that in the middle of a
//     file has its half file taken, so use 1 or 2 where you can.
//
// The temporary file must be on the same file system as the folder (a
// rename across file systems is a copy, and refundd could see a half
// copy). Never rename a file out of the folder again, and never change a
// file after it has its final name or marker.
//
// Names that are never taken, whatever they hold (letter case does not
// matter):
//
//   - hidden names, starting with '.' (".refunds.csv", ".#refunds.csv",
//     ".~lock.refunds.csv#"),
//   - names starting with '~' or '#' ("~$refunds.xlsx", "#refunds.csv#"),
//   - names ending in '~', ".tmp", ".temp", ".part", ".partial",
//     ".filepart", ".crdownload", ".download", ".swp", ".swx", ".lock",
//     ".err" or ".done",
//   - "Thumbs.db" and "desktop.ini",
//   - anything that is not a regular file: folders, symbolic links (never
//     followed), FIFOs, sockets, devices.
//
// # What happens to a file
//
// A file that is ready is claimed: renamed from the folder into the state
// folder's work/<kind>/ (work/export/, work/inbox/), where refundd reads it
// and records its SHA-256. From there it goes
//
//   - to the archive, <state>/archive/<kind>/YYYY/MM/, when it has been
//     processed;
//   - to failed/ in the folder it came from (export/failed/,
//     inbox/failed/), with <name>.err beside it that lists every problem
//     found, one per line, when it cannot be processed. A file whose
//     contents were processed before goes there too, with a .err that
//     says "duplicate of <file> (sha256 <hash>) processed <time>".
//
// A name that is taken in the archive or failed/ gets a number:
// "refunds (2).csv". A file keeps its name in work/: a file whose name is
// still taken there, by one whose processing has not finished, waits in
// the folder until that one has moved on. To resubmit a file from failed/,
// fix it and drop it again as above; the .err can be deleted.
//
// After a crash, files left in work/ are resumed when refundd starts. A
// done marker is removed before its file is claimed, so a stale marker
// never vouches for a later file of the same name; a marker older than its
// file counts for nothing.
//
// # When a file without a marker is ready
//
// Scan remembers the size, modification time (mtime), inode change time
// (ctime) and inode number of every file it sees. A file is ready when a
// scan sees it in the same state as an earlier scan at least StableFor
// before. A file renamed in keeps the mtime it had when it was written, so
// a file whose mtime is already StableFor old is ready sooner: as soon as a
// second scan, at least Settle (1 s) after the first, sees it unchanged.
//
// A file is never ready at the first sight, even with an old mtime and an
// old ctime. The timestamps of a file on a share come from the file
// server's clock, and a server whose clock is behind would make a file
// that is being written look old. The ctime does not help with renamed
// files either: Linux file systems set it on a rename. The second sighting
// costs at most Settle and guards against both; since ctime is part of the
// compared state, it also catches a writer that keeps appending to a file
// whose mtime does not move (Samba keeps an mtime that a client set
// explicitly).
//
// # Files known to be complete
//
// With file events (Linux, events on), the Watcher also reads the
// kernel's events of each file (inotify: create, write, close after
// writing, rename in, attribute change, removal) and gives them to
// Folder.Note. A file is known complete, and taken CloseSettle (100 ms)
// after, without waiting for StableFor, when
//
//   - it was renamed into the folder (the atomic-write pattern), or
//   - its writer closed it and its contents end at a record boundary: a
//     JSON file ('{' or '[' first) is one complete value; an XML file ('<'
//     first) has its root element closed, with nothing but white space,
//     comments and processing instructions after; any other file (CSV) has
//     a header line and at least one more line, and ends in a line break
//     outside quotes.
//     A file larger than 16 MiB is not looked into;
//
// and it is in the same state (size, times, inode) as right after that
// close or rename, and no write was seen since. Everything else keeps the
// rules above: a file still open for writing (no close seen), one closed
// in the middle of a record, one seen only by a rescan (a share, events
// off, a file there before the start), and one written again after a close
// or rename: a writer that reopens a file is never taken early again, even
// when it closes it again. When the kernel dropped events, every file
// known so far waits for StableFor; a new file of the name starts afresh.
//
// A close is not proof of completeness: a writer may close a file at a
// line end and reopen it later to append. If it comes back within
// CloseSettle, its write keeps the file waiting for StableFor. If it comes
// back later, the part it closed was taken: the file has moved into work/,
// so the append creates a new file of that name (or fails, if the writer
// does not create), holding only the appended lines, which goes the
// ordinary way (without a header line it is not complete by the rule
// above, and it cannot be read as a batch). So a write, close and append
// never grows a file after it was taken; such a writer should use 1 or 2
// above.
//
// The kernel reports a close after writing for any handle opened for
// writing, not only the writer's: a second process that opens the file
// for writing and closes it while the writer still holds it open (and
// the file ends at a record boundary) makes it look complete. Only one
// program should write into the folder's files. A file that refundd puts
// back into the folder after it changed while being claimed is never
// taken early: its own rename back is not a writer's rename-in.
//
// # Finding files
//
// A Watcher watches the folders (not the files in them) with inotify
// through fsnotify and kicks a scan shortly after files are created or
// written, gathering bursts of events into one kick. Events are only a
// hint: shares (NFS, SMB) send none, and the kernel drops events when its
// queue is full. The full rescan on a cron schedule (watch.rescan,
// "@every 30s" by default), at the start, and after any lost event or
// watcher error is what finds every file. Events can be turned off, so
// that the rescans alone drive the work.
package spool
