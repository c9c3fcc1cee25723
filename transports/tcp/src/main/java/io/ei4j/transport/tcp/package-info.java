/** The tcp transport. */
package io.ei4j.transport.tcp;
