; Inno Setup 6 script for Atelier on Windows: installs dist\Atelier (PyInstaller onedir) and adds a
; Start menu entry. NOT YET RUN: written against the Inno Setup documentation, built by the
; windows job of .github/workflows/bundle.yml. Inno Setup, not NSIS: NSIS caps an installer at 2 GB.
;
; Build (from the repository root, after packaging/windows/build.ps1 made dist\Atelier):
;   iscc /DAppVersion=0.1.0 packaging\windows\atelier.iss
; Output: dist\Atelier-<version>-windows-x64-setup.exe

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Atelier"
#define AppExe "Atelier.exe"

[Setup]
; AppId identifies the app for upgrades and uninstall; never change it between versions.
AppId={{6F4B2C1E-7A39-4E52-9C1D-2B8A5E0F3D71}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=Atelier contributors
AppComments=A local, private studio for generative art
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; per-user install by default (no admin prompt); the user may choose all users in a dialog
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\atelier.ico
UninstallDisplayIcon={app}\{#AppExe}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
; One Setup.exe holds up to about 4.2 GB compressed, enough for the CPU build (~0.5 GB). A CUDA
; build of torch exceeds it: then set DiskSpanning=yes (the docs require it past 4,200,000,000
; bytes) and ship the Setup-*.bin slices beside Setup.exe.
DiskSpanning=no
; the user's settings, models and images live in their own folders; uninstalling leaves them
UsePreviousAppDir=yes
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; the whole onedir bundle; ignoreversion because torch's DLLs carry no useful version resources
Source: "..\..\dist\Atelier\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an upgrade replaces the bundle's own files (a stale module from an older version would load)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
