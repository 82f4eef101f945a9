/// A read model: folds committed events, in order, and knows the position it has applied.
///
/// Read models are values: copying one is how time travel keeps checkpoints.
public protocol Projection<Event>: Sendable {
    /// The domain's event type.
    associatedtype Event: Sendable

    /// The last position applied, 0 before any.
    var position: Int { get }

    /// Applies the next event. `envelope.position` is always `position + 1`.
    mutating func apply(_ envelope: Envelope<Event>)
}

extension Projection {
    /// Applies every committed record of `store` from `position + 1` through `through`
    /// (default: the last), decoding with `codec`.
    public mutating func catchUp<Codec: EventCodec>(
        from store: any EventStore, codec: Codec.Type, through: Int? = nil
    ) throws where Codec.Event == Event {
        let last = min(through ?? store.lastPosition, store.lastPosition)
        guard position < last else { return }
        try store.forEachRecord(from: position + 1, through: last) { record in
            apply(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
        }
    }
}

/// Time travel: a read model as it stood at any position, through the same projection code.
///
/// Keeps a copy of the model every `interval` events (checkpoints) so that the model at
/// position N costs one copy plus at most `interval - 1` applied events. Checkpoints are
/// invisible in results: the model at N equals the plain fold of events 1...N.
///
/// Threading: one thread at a time.
public final class Timeline<Model: Projection, Codec: EventCodec> where Codec.Event == Model.Event {
    private let store: any EventStore
    private let empty: Model
    /// Checkpoint `k` holds the model at position `k * interval`.
    private var checkpoints: [Model]
    /// Events between checkpoints.
    public let interval: Int

    /// Creates a timeline over `store` starting from the empty model `empty`.
    public init(store: any EventStore, empty: Model, codec: Codec.Type, interval: Int = 4096) {
        precondition(interval > 0, "checkpoint interval must be positive")
        self.store = store
        self.empty = empty
        self.interval = interval
        self.checkpoints = [empty]
    }

    /// The model as it stood at `position` (clamped to 0...lastPosition).
    public func model(at position: Int) throws -> Model {
        let target = max(0, min(position, store.lastPosition))
        try extendCheckpoints(through: target)
        var model = checkpoints[min(target / interval, checkpoints.count - 1)]
        try model.catchUp(from: store, codec: Codec.self, through: target)
        return model
    }

    private func extendCheckpoints(through target: Int) throws {
        guard var model = checkpoints.last, model.position + interval <= target else { return }
        while model.position + interval <= target {
            try model.catchUp(from: store, codec: Codec.self, through: model.position + interval)
            checkpoints.append(model)
        }
    }
}
