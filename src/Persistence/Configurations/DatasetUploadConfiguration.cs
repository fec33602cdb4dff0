using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using TrainingService.Persistence.Datasets;

namespace TrainingService.Persistence.Configurations;

public sealed class DatasetUploadConfiguration : IEntityTypeConfiguration<DatasetUpload>
{
    public void Configure(EntityTypeBuilder<DatasetUpload> builder)
    {
        builder.ToTable("dataset_uploads");
        builder.HasKey(u => new { u.Owner, u.Id });
        builder.Property(u => u.Owner).HasMaxLength(64);
        builder.Property(u => u.Id).HasMaxLength(64);
        builder.HasIndex(u => u.Id);
    }
}
