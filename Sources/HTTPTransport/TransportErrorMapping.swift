import AsyncHTTPClient
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns AsyncHTTPClient / NIO failures into ``TransportError`` kinds without importing NIOSSL or NIOPosix
/// (their errors are recognised by type name).
enum TransportErrorMapping {
    static func map(_ error: any Error, url: String) -> TransportError {
        let target = URLParts(url)?.authority ?? "the registry"
        if let error = error as? TransportError { return error }
        if let error = error as? HTTPClientError { return map(error, target: target) }
        if let error = error as? IOError { return map(errno: error.errnoCode, target: target) }
        if let error = error as? ChannelError { return map(error, target: target) }
        if error is NIOTooManyBytesError {
            return TransportError(kind: .other, message: "answer from \(target) is larger than 16 mib")
        }
        let typeName = String(reflecting: type(of: error))
        let text = String(describing: error)
        if typeName.contains("SSL") || typeName.contains("TLS") || text.contains("SSL") || text.contains("TLS") {
            return TransportError(kind: .tls, message: "tls failure talking to \(target) (\(typeName.split(separator: ".").last ?? "error"))")
        }
        let lower = text.lowercased()
        if typeName.contains("NIOConnectionError") || lower.contains("connection refused") {
            return TransportError(kind: .connect, message: lower.contains("refused")
                ? "connection refused by \(target)" : "cannot connect to \(target)")
        }
        if lower.contains("connection reset") || lower.contains("broken pipe") {
            return TransportError(kind: .reset, message: "connection to \(target) was reset")
        }
        if lower.contains("timed out") || lower.contains("timeout") {
            return TransportError(kind: .timeout, message: "request to \(target) timed out")
        }
        return TransportError(kind: .other, message: "request to \(target) failed (\(typeName.split(separator: ".").last ?? "error"))")
    }

    private static func map(_ error: HTTPClientError, target: String) -> TransportError {
        switch error {
        case .connectTimeout:
            return TransportError(kind: .connect, message: "connecting to \(target) timed out")
        case .remoteConnectionClosed:
            return TransportError(kind: .reset, message: "\(target) closed the connection")
        case .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
            return TransportError(kind: .timeout, message: "request to \(target) timed out")
        case .tlsHandshakeTimeout:
            return TransportError(kind: .tls, message: "tls handshake with \(target) timed out")
        case .redirectLimitReached, .redirectCycleDetected:
            return TransportError(kind: .other, message: "too many redirects from \(target)")
        default:
            return TransportError(kind: .other, message: "request to \(target) failed (\(String(describing: error).lowercased()))")
        }
    }

    private static func map(_ error: ChannelError, target: String) -> TransportError {
        switch error {
        case .connectTimeout:
            return TransportError(kind: .connect, message: "connecting to \(target) timed out")
        case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
            return TransportError(kind: .reset, message: "\(target) closed the connection")
        default:
            return TransportError(kind: .other, message: "request to \(target) failed (channel error)")
        }
    }

    static func map(errno code: CInt, target: String) -> TransportError {
        switch code {
        case ECONNREFUSED:
            return TransportError(kind: .connect, message: "connection refused by \(target)")
        case EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL:
            return TransportError(kind: .connect, message: "\(target) is unreachable")
        case ECONNRESET, EPIPE, ECONNABORTED:
            return TransportError(kind: .reset, message: "connection to \(target) was reset")
        case ETIMEDOUT:
            return TransportError(kind: .timeout, message: "request to \(target) timed out")
        default:
            return TransportError(kind: .other, message: "i/o error talking to \(target) (errno \(code))")
        }
    }
}
