import HTTPTypes
import NIOCore

/// An HTTP answer: the status and header fields, and a body that is read as a stream or collected.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headerFields: HTTPFields
    public var body: ResponseBody

    public init(status: Int, headerFields: HTTPFields = [:], body: ResponseBody = .empty) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// The first value of `name`.
    public subscript(_ name: HTTPField.Name) -> String? { headerFields[name] }
}

/// A response body, consumed once: as chunks, or collected into memory up to a limit.
public struct ResponseBody: Sendable {
    private let chunks: ByteChunks?

    public init(_ chunks: ByteChunks) {
        self.chunks = chunks
    }

    private init(none: Void) {
        chunks = nil
    }

    public static let empty = ResponseBody(none: ())

    public static func bytes(_ bytes: some Sequence<UInt8>) -> ResponseBody {
        ResponseBody(ByteChunks(single: ByteBuffer(bytes: bytes)))
    }

    /// The chunks as they arrive.
    public func stream() -> ByteChunks {
        chunks ?? ByteChunks { { nil } }
    }

    /// The whole body, or ``TransportError`` (`other`) when it is longer than `limit` bytes.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        guard let chunks else { return [] }
        var bytes: [UInt8] = []
        for try await var chunk in chunks {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw TransportError(kind: .other, message: "answer is larger than \(limit >> 20) mib")
            }
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }
}

/// An answer with its body in memory: what protocol clients look at for anything but large downloads.
public struct CollectedResponse: Sendable {
    public var status: Int
    public var headerFields: HTTPFields
    public var body: [UInt8]

    public init(status: Int, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    public subscript(_ name: HTTPField.Name) -> String? { headerFields[name] }

    /// Every value of `name`, in order.
    public func values(_ name: HTTPField.Name) -> [String] { headerFields.values(name) }
}

extension TransportResponse {
    /// Answers larger than this are refused when collected: registry and repository answers here are manifests,
    /// metadata, tag lists and errors.
    public static let collectLimit = 16 << 20

    /// The answer with its body read into memory.
    public func collected(upTo limit: Int = TransportResponse.collectLimit) async throws -> CollectedResponse {
        CollectedResponse(status: status, headerFields: headerFields, body: try await body.collect(upTo: limit))
    }
}
