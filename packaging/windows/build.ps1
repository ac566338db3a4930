# Windows build of Atelier: venv, PyInstaller onedir, self-test of the frozen app, Inno Setup installer.
# NOT YET RUN: written for the windows job of .github/workflows/bundle.yml (windows-latest runner,
# Python 3.11, Inno Setup 6 preinstalled there). Run from the repository root in PowerShell.
$ErrorActionPreference = "Stop"

python -m venv .venv
.\.venv\Scripts\python -m pip install --upgrade pip
# torch first and pinned, CPU wheel: a looser requirement can pull a multi-GB CUDA build
.\.venv\Scripts\python -m pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
.\.venv\Scripts\python -m pip install -e ".[package]"
$version = (.\.venv\Scripts\python -c "import desktop; print(desktop.__version__)").Trim()

.\.venv\Scripts\python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\atelier.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }

# the self-test of the frozen app (Atelier-cli.exe is the console twin of the windowed Atelier.exe)
$env:QT_QPA_PLATFORM = "offscreen"
.\dist\Atelier\Atelier-cli.exe --selftest | Tee-Object -FilePath selftest.log
if ($LASTEXITCODE -ne 0 -or -not (Select-String -Path selftest.log -Pattern "^SELFTEST OK" -Quiet)) {
    throw "the frozen self-test failed"
}
Remove-Item Env:\QT_QPA_PLATFORM

$iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
& $iscc "/DAppVersion=$version" packaging\windows\atelier.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Get-ChildItem dist\*.exe | Format-Table Name, Length
