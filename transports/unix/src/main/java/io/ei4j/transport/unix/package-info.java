/** The unix transport. */
package io.ei4j.transport.unix;
