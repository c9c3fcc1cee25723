/**
 * Internals shared by the C-node handle ({@code io.ei4j.connect}) and the node with
 * mailboxes ({@code io.ei4j.node}): node-name parsing and the argument checks they share.
 * Not API: it may change in any release.
 */
package io.ei4j.internal.node;
