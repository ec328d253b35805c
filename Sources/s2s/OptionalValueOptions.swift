/// Options that take a value or stand alone — `--n-best 3` and `--n-best` (OpenNMT-py's and
/// Marian's spellings) — which swift-argument-parser cannot declare. Before parsing, a bare
/// one gets the value "0", which the option reads as "as many as the beam".
enum OptionalValueOptions {
    static let names: Set<String> = ["--n-best"]

    static func expand(_ arguments: [String]) -> [String] {
        var expanded: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            expanded.append(argument)
            if argument == "--" {
                expanded += arguments[(index + 1)...]
                break
            }
            if names.contains(argument), index + 1 == arguments.count || Int(arguments[index + 1]) == nil {
                expanded.append("0")
            }
            index += 1
        }
        return expanded
    }
}
