/*
 * SFTP version 3 wire constants (draft-ietf-secsh-filexfer-02) and the engine's limits.
 * Private to the SFTP engine (sftp_server.c, sftp_upload.c) and its tests.
 */
#ifndef WSGATE_SFTP_PROTO_H
#define WSGATE_SFTP_PROTO_H

/* Packet types (draft-02 section 3). */
#define SSH_FXP_INIT 1
#define SSH_FXP_VERSION 2
#define SSH_FXP_OPEN 3
#define SSH_FXP_CLOSE 4
#define SSH_FXP_READ 5
#define SSH_FXP_WRITE 6
#define SSH_FXP_LSTAT 7
#define SSH_FXP_FSTAT 8
#define SSH_FXP_SETSTAT 9
#define SSH_FXP_FSETSTAT 10
#define SSH_FXP_OPENDIR 11
#define SSH_FXP_READDIR 12
#define SSH_FXP_REMOVE 13
#define SSH_FXP_MKDIR 14
#define SSH_FXP_RMDIR 15
#define SSH_FXP_REALPATH 16
#define SSH_FXP_STAT 17
#define SSH_FXP_RENAME 18
#define SSH_FXP_READLINK 19
#define SSH_FXP_SYMLINK 20
#define SSH_FXP_STATUS 101
#define SSH_FXP_HANDLE 102
#define SSH_FXP_DATA 103
#define SSH_FXP_NAME 104
#define SSH_FXP_ATTRS 105
#define SSH_FXP_EXTENDED 200
#define SSH_FXP_EXTENDED_REPLY 201

/* Status codes (draft-02 section 7). */
#define SSH_FX_OK 0
#define SSH_FX_EOF 1
#define SSH_FX_NO_SUCH_FILE 2
#define SSH_FX_PERMISSION_DENIED 3
#define SSH_FX_FAILURE 4
#define SSH_FX_BAD_MESSAGE 5
#define SSH_FX_OP_UNSUPPORTED 8

/* Open flags (draft-02 section 6.3). */
#define SSH_FXF_READ 0x01
#define SSH_FXF_WRITE 0x02
#define SSH_FXF_APPEND 0x04
#define SSH_FXF_CREAT 0x08
#define SSH_FXF_TRUNC 0x10
#define SSH_FXF_EXCL 0x20

/* Attribute flags (draft-02 section 5). */
#define SSH_FILEXFER_ATTR_SIZE 0x01
#define SSH_FILEXFER_ATTR_UIDGID 0x02
#define SSH_FILEXFER_ATTR_PERMISSIONS 0x04
#define SSH_FILEXFER_ATTR_ACMODTIME 0x08
#define SSH_FILEXFER_ATTR_EXTENDED 0x80000000u

/* Engine limits: the protocol (sftp_server.c). */
#define SFTP_MAX_PACKET (256u * 1024)  /* payload after the u32 length */
#define SFTP_OUT_HIGH_WATER (1u << 20) /* stop reading requests above this much output */
#define SFTP_MAX_READ (64u * 1024)     /* largest DATA reply */
#define SFTP_MAX_HANDLES 32
#define SFTP_MAX_DIR_ENTRIES 4096 /* entries snapshotted by one OPENDIR */
#define SFTP_READDIR_BATCH 64
#define SFTP_MAX_PATH 4096

/* Import-upload policy limits (sftp_upload.c). */
#define SFTP_MAX_RANGES 64	     /* disjoint written ranges per upload */
#define SFTP_SIDECAR_MAX 4096	     /* bytes of one sidecar, so of a reason too */
#define SFTP_MAX_SIDECARS 16	     /* pending sidecars (reasons, checksums) kept per session */
#define SFTP_REASON_SUFFIX ".reason" /* NAME.reason: the import's reason for NAME */
#define SFTP_SHA256_SUFFIX ".sha256" /* NAME.sha256: NAME's declared SHA-256 */
/* WinSCP-style uploads: NAME.filepart is held after CLOSE and queued when renamed to NAME. */
#define SFTP_FILEPART_SUFFIX ".filepart"
#define SFTP_MAX_PARKED 4

#endif
