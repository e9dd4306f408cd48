module example.com/local

go 1.22

require (
	example.com/abs v1.0.0
	example.com/file v1.0.0
	example.com/inside v1.0.0
	example.com/missing v1.0.0
	example.com/nomod v1.0.0
	example.com/outside v1.0.0
	example.com/wrongpath v1.0.0
)

replace example.com/inside => ./inside

replace example.com/missing => ./missing // want local-escape `replacement directory \./missing does not exist`

replace example.com/outside => ../outside // want local-escape "replacement directory ../outside is outside the repository whose root is this go.mod.s directory: "

replace example.com/abs => ${CASE}/repo/inside_abs // want local-escape "is an absolute path"

replace (
	example.com/nomod => ./nomod // want local-mismatch "replacement directory ./nomod has no go.mod"
	example.com/wrongpath => ./wrongpath // want local-mismatch "declares example.com/other, not example.com/wrongpath"
	example.com/file => ./afile // want local-escape "replacement ./afile is not a directory"
)
