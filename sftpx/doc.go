// Package sftpx is an SSH/SFTP transport for a file hand-off that must not go
// wrong: a payment file is uploaded once, whole, to a server whose identity
// was checked, or the caller learns why not.
//
// It builds on golang.org/x/crypto/ssh and github.com/pkg/sftp (v1) and adds
// what a bank integration needs on top of them:
//
//   - Dial checks the server's host key against an OpenSSH known_hosts file or
//     pinned SHA-256 fingerprints, always; there is no setting that skips the
//     check. Only the host-key algorithms of the pinned keys are offered, so a
//     server with several keys presents the one that was pinned.
//   - The private key file must be private (like ssh, a key readable by group
//     or others is refused); an encrypted key's passphrase comes from an
//     environment variable, a file, or a systemd credential.
//   - Nothing waits forever: connect and handshake are bounded, the
//     connection has read and write deadlines, keepalive@openssh.com requests
//     detect a dead peer, and every SFTP request that gets no reply within the
//     timeout closes the connection. The next call dials again. Put and Get
//     also have a total budget (Config.TransferTimeout), so a server that
//     answers just often enough never to be idle is cut off too.
//   - Put writes to a temporary name (O_EXCL), with several write requests
//     in flight, checks every write, the close (after fsync@openssh.com where
//     offered) and the remote size, and only then renames to the final name,
//     so writes that land out of order or fail never show under it. It never
//     overwrites or deletes an existing file under the final name, and removes
//     its temporary file on failure.
//   - IsPermanent tells failures that a retry cannot fix (authentication,
//     host key, permissions, no space, an existing target, an upload whose
//     outcome is unknown) from passing ones (network, timeouts).
//
// The package also has an embeddable SFTP server (StartServer), rooted in a
// local folder, for tests and for a local stand-in of the bank's endpoint.
//
// sftpx knows nothing of refunds or payment formats.
package sftpx
