import Foundation

/// Any JSON value, for header fields whose schema belongs to another component (training
/// options, a scheduler's state, a corpus iterator's position): the container stores them
/// without knowing their type, and the owner decodes them back into its own `Codable` type.
///
/// Integers are kept apart from floating-point numbers so 64-bit counters and seeds
/// survive exactly; floats survive exactly because JSON text is shortest-round-trip.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON form of `value`, through the container's encoder.
    public init<Value: Encodable>(encoding value: Value) throws {
        let data = try Container.makeJSONEncoder().encode(value)
        self = try Container.makeJSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Decodes this value as `type` (the inverse of `init(encoding:)`).
    public func decode<Value: Decodable>(as type: Value.Type) throws -> Value {
        let data = try Container.makeJSONEncoder().encode(self)
        return try Container.makeJSONDecoder().decode(Value.self, from: data)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsignedInteger(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .unsignedInteger(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}
