package dev.tern.journal;

/** When a 250 may be sent for an accepted message. */
public enum Durability {
    /** After the message's bytes are fsynced to stable storage (group commit). The default. */
    SYNC,
    /** After the bytes are in the OS page cache: survives a process crash, not a power loss or kernel panic. */
    OS
}
