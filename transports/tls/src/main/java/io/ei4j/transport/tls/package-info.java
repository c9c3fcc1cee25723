/** The tls transport. */
package io.ei4j.transport.tls;
