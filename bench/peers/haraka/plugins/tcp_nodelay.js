// TCP_NODELAY for the benchmark (bench/peers/compare.sh): Haraka 3 exposes no setting for it. Inbound sockets get it
// at connect_init; outbound sockets (smtp_forward to the sink) are created through net.connect, wrapped here once.
'use strict'

const net = require('node:net')

exports.register = function () {
    if (!net.connect.ternNoDelay) {
        const connect = net.connect
        const wrapped = function (...args) {
            const socket = connect.apply(net, args)
            socket.setNoDelay(true)
            return socket
        }
        wrapped.ternNoDelay = true
        net.connect = wrapped
        net.createConnection = wrapped
    }
}

exports.hook_connect_init = function (next, connection) {
    // Haraka wraps the socket (for STARTTLS); the wrapper's setNoDelay is a no-op, the target socket's is not.
    const socket = connection.client?.targetsocket ?? connection.client
    if (socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true)
    next()
}
