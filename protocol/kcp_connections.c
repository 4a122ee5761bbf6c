/* Index checks of DescribeConnections rows against their page's Strings. */
#include "kcp_connections.h"

#include <stdio.h>
#include <string.h>

typedef kcp_describe_connections_response_connection row_t;

#define FIELD(name, member, nullable) {name, offsetof(row_t, member), nullable}
const kcp_connections_field kcp_connections_fields[] = {
    FIELD("ListenerNameIndex", listener_name_index, false),
    FIELD("PrincipalIndex", principal_index, false),
    FIELD("SaslMechanismIndex", sasl_mechanism_index, true),
    FIELD("LocalHostIndex", local_host_index, false),
    FIELD("ClientIdIndex", client_id_index, true),
    FIELD("ClientSoftwareNameIndex", client_software_name_index, false),
    FIELD("ClientSoftwareVersionIndex", client_software_version_index, false),
    FIELD("CloseReasonIndex", close_reason_index, true),
    FIELD("TlsProtocolIndex", tls_protocol_index, true),
    FIELD("TlsCipherIndex", tls_cipher_index, true),
    FIELD("PeerCertificateSubjectIndex", peer_certificate_subject_index, true),
    FIELD("PeerCertificateIssuerIndex", peer_certificate_issuer_index, true),
    FIELD("PeerCertificateSerialIndex", peer_certificate_serial_index, true),
};
const size_t kcp_connections_fields_count =
    sizeof kcp_connections_fields / sizeof kcp_connections_fields[0];

/* Whether the index in field d of row may stand there: one unsigned compare
 * takes 0 .. n-1, and -1 too where the field is nullable. */
static bool index_ok(const char *row, const kcp_connections_field *d, uint32_t n)
{
    int32_t i;
    memcpy(&i, row + d->offset, sizeof i);
    return (uint32_t)i + d->nullable < n + d->nullable;
}

int kcp_connections_check(const kcp_describe_connections_response *m, char *err, size_t err_size)
{
    enum { N_FIELDS = sizeof kcp_connections_fields / sizeof kcp_connections_fields[0] };
    uint32_t n = m->strings.n > 0 ? (uint32_t)m->strings.n : 0;
    for (int32_t r = 0; r < m->connections.n; r++) {
        const char *row = (const char *)&m->connections.v[r];
        /* One branch per row, not per field: every reader checks every row. */
        bool ok = true;
        for (size_t f = 0; f < N_FIELDS; f++)
            ok &= index_ok(row, &kcp_connections_fields[f], n);
        if (ok)
            continue;
        for (size_t f = 0; f < N_FIELDS; f++) {
            const kcp_connections_field *d = &kcp_connections_fields[f];
            if (index_ok(row, d, n))
                continue;
            int32_t i;
            memcpy(&i, row + d->offset, sizeof i);
            if (err && err_size)
                snprintf(err, err_size, "Connections[%d].%s: %d is not %s of Strings (%d entries)",
                         (int)r, d->name, (int)i, d->nullable ? "-1 or an index" : "an index",
                         (int)n);
            break;
        }
        return KCP_ERR_LENGTH;
    }
    return 0;
}
