-- Kit extension build script (Kit extension template layout): links the extension's folders into the build.
-- The extension folder is the repository root: config/extension.toml, stripe_kit_ext/, data/, docs/.
local ext = get_current_extension_info()

project_ext (ext)

-- Link only those files and folders into the extension target directory
repo_build.prebuild_link {
    { "stripe_kit_ext", ext.target_dir.."/stripe_kit_ext" },
    { "data", ext.target_dir.."/data" },
    { "docs", ext.target_dir.."/docs" },
}
