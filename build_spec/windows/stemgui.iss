; Inno Setup 6 script: wraps the one-folder build (dist\stemgui) into stemgui-<version>-setup.exe.
;
;   iscc /DAppVersion=0.1.0 /DSourceDir=C:\path\to\dist\stemgui /OC:\path\to\dist build_spec\windows\stemgui.iss
;
; AppVersion is passed by the release workflow (stemgui.__version__); SourceDir defaults to
; ..\..\dist\stemgui beside this script. Installs per user by default (no administrator needed),
; adds a Start menu entry, an optional desktop icon, an optional "Open with stemgui" association
; for audio files, and an uninstaller (Settings > Apps).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z stemgui.iss
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\stemgui"
#endif
#define AppName "stemgui"
#define AppExe "stemgui.exe"
#define AppId "{{6F1D2C4B-8E0A-4B8E-9C57-3D2E5A7B9F10}"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=stemgui
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
ChangesAssociations=yes
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associate"; Description: "Add ""Open with stemgui"" for audio files (mp3, wav, flac, ogg, opus, m4a, aac, aif, aiff, wma)"; GroupDescription: "File types:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; The application, and "Open with" entries for audio types (the user's default player stays).
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.mp3\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.wav\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.flac\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.ogg\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.m4a\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.aac\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.aiff\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.opus\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.aif\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.wma\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey; Tasks: associate

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Files the app may leave in its own folder (settings, models and logs live in the user profile).
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
