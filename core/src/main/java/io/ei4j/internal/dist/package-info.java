/**
 * Internals of the distribution protocol: the handshake, distribution flags, control
 * message mapping, deadlines, socket I/O over the callbacks, cookie files. Not API: it may
 * change in any release.
 */
package io.ei4j.internal.dist;
