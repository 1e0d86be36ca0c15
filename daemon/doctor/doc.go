// Package doctor checks, as an operator would before going live, what
// refundd needs to work: the configuration, the folders and their
// permissions, the SFTP key files, the connection to AutoPay, its host key,
// the login, the listing of the upload and download folders, and writing
// and removing a probe file in the upload folder. Run returns one Check per
// item; checks that depend on a failed one are left out.
package doctor
