import ArgumentParser
import FledgeHub

extension HubRepo.Kind: ExpressibleByArgument {}

/// `fledge download`: puts a Hub repository's files into the Hugging Face cache, as
/// `huggingface-cli download` does, and prints the snapshot folder.
struct Download: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a Hugging Face Hub repository into the Hugging Face cache and print its snapshot folder.",
        discussion: """
        The cache is the one huggingface_hub uses (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), \
        so Python finds what Fledge downloaded and the other way round. HF_ENDPOINT picks the Hub, HF_TOKEN (or \
        HF_HOME/token) authenticates, and HF_HUB_OFFLINE=1 only looks the snapshot up in the cache. Files already \
        in the cache are not downloaded again; an interrupted download resumes.
        """)

    @Argument(help: "The repository id, org/name (or org/name@revision).")
    var repo: String

    @Option(help: "The repository type: model or dataset.")
    var repoType: HubRepo.Kind = .model

    @Option(help: "A branch, tag or commit hash (default main).")
    var revision: String?

    @Option(parsing: .upToNextOption, help: "Only files matching these shell patterns (as huggingface_hub's allow_patterns; 'dir/' means everything under dir).")
    var include: [String] = []

    func run() throws {
        let (id, inId) = HubRepo.splitRevision(repo)
        if let inId, let revision, inId != revision {
            throw HubError.conflictingRevisions(id: repo, inId: inId, field: "--revision")
        }
        let folder = try HubDownloader().snapshot(
            HubRepo(id: id, kind: repoType), revision: inId ?? revision ?? "main",
            files: include.isEmpty ? .all : HubFileSelection(patterns: include), preferCache: false)
        print(folder.path)
    }
}
