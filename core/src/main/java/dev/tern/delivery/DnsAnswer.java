package dev.tern.delivery;

import java.util.List;
import org.xbill.DNS.Record;

/**
 * One DNS answer as the resolver got it.
 *
 * @param rcode      the response code (org.xbill.DNS.Rcode)
 * @param records    the answer section records of the asked type
 * @param ttlSeconds how long the answer may be cached (the smallest record TTL, or the SOA minimum of a negative
 *                   answer, RFC 2308)
 */
record DnsAnswer(int rcode, List<Record> records, long ttlSeconds) {
    DnsAnswer {
        records = List.copyOf(records);
    }
}
